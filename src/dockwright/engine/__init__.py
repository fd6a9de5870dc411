"""dockwright.engine"""
