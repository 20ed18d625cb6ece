"""Pure renderers: a Report in, text out. They show the gate's decision; they never make it."""
