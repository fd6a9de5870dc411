"""dockwright.types"""
