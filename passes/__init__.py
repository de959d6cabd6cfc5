"""archir.passes."""
