"""dockwright.api"""
