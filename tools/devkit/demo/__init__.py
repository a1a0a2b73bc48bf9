"""The demo community that ``make run`` brings up."""
