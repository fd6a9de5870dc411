"""dockwright.store"""
