"""Foundations every domain uses; depends on no domain."""
