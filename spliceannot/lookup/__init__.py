"""A self-hosted splice lookup over HTTP (``spliceannot serve --http``): the SpliceAI-lookup API, a JSON
API and a web page, over the scorers ``annotate`` uses.

From the inside out:

- :mod:`~spliceannot.lookup.hgvs`, :mod:`~spliceannot.lookup.variants`: what a user types
  (``CHROM-POS-REF-ALT``, ``CHROM:POS:REF:ALT``, HGVS ``c.``) -> one VCF-style variant (pure);
- :mod:`~spliceannot.lookup.transcripts`: transcript IDs, gene names, MANE Select / canonical
  tags and CDS from the GTF/GFF3, paired with the annotation rows;
- :mod:`~spliceannot.lookup.genomes`: each ``--genome`` loaded with its scorers;
- :mod:`~spliceannot.lookup.engine`: a batch of lookups scored together (per transcript,
  tracks on request); :mod:`~spliceannot.lookup.batcher`: requests that arrive together
  gathered into one engine call, in one engine thread;
- :mod:`~spliceannot.lookup.compat` (SpliceAI-lookup's API), :mod:`~spliceannot.lookup.api`
  (our JSON), :mod:`~spliceannot.lookup.plots` (SVG), :mod:`~spliceannot.lookup.page` (the page);
- :mod:`~spliceannot.lookup.app` (aiohttp routes, limits, access log) and
  :mod:`~spliceannot.lookup.server` (listen, workers, graceful stop).
"""
