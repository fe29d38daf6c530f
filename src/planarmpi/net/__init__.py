"""DICOM networking: the node that receives studies and sends reports (pynetdicom)."""

from planarmpi.net.node import STORAGE_CLASSES, Destination, DicomNode, send_files

__all__ = ["STORAGE_CLASSES", "Destination", "DicomNode", "send_files"]
