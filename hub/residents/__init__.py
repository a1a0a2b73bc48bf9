"""The resident registry: residents and households, consent to face verification, credentials (encrypted face
templates, cards, PINs) and visitor passes with their QR codes. SQLite-backed, no Home Assistant imports.
"""
