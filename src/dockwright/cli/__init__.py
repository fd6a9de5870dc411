"""dockwright.cli"""
