"""The contract between the daemon and its components: what a component is and the narrow context it gets."""
