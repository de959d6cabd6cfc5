"""archir.backends."""
