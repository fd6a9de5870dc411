"""dockwright.kernel"""
