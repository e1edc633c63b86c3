"""Voice: what people say about brands — sources, matching, language, sentiment, detection.

Each step is its own module so the pipeline can run them on batches and tests can check each
one on its own.
"""
