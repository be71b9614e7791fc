"""Pangolin (tkzeng/Pangolin 5cf94b8) scored exactly: its genes, its numbers, its INFO field.

The networks are our one network (:data:`spliceannot.engine.architecture.PANGOLIN`);
what is Pangolin's own lives here: which genes a variant is scored against
(:mod:`.genes`), how twelve tracks become a gene's ``pos:score`` pairs
(:mod:`.numbers`), the records it scores or skips (:mod:`.scorer`), and the
drop-in's files (:mod:`.dropin`; VCF text rendered as PyVCF renders it:
:mod:`.vcf_text`).
"""
