"""The demo: benign generated stand-in images, altered copies, a bank, a scan, a report."""
