"""dockwright.image"""
