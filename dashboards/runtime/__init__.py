"""The session runtime: one WebSocket consumer per browser tab, its state and its handlers."""
