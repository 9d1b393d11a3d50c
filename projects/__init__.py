"""The ten backprop-lab projects, their shared training loop, the runner and the command line."""
