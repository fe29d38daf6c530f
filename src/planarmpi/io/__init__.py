"""Reading (tolerant) and writing (strict) DICOM NM."""
