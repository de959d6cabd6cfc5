"""archir.search."""
