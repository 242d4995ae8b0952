"""The daemon core: the loop, the components it runs and the narrow context they get."""
