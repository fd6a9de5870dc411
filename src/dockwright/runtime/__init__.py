"""dockwright.runtime"""
