"""The central hub: stores what stations send and tracks their state."""
