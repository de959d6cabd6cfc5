"""archir.frontends."""
