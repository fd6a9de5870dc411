"""dockwright.client"""
