"""The project's model package: the network, its loss and metrics (net.py) and the data (data_loader.py)."""
