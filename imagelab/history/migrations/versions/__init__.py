"""The revisions: ``NNNN_what.py``, revision id ``NNNN``, each upgrading from the one before."""
