"""Readers: VCF/BCF records, reference sequence and gene annotation."""
