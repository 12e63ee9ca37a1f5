"""Reports: Markdown (and HTML) renderings of results."""
