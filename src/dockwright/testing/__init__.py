"""dockwright.testing"""
