"""Latency models. The table-learnt predictor (measured per-block tables -> LightGBM) lives in the
``lut*`` modules; other predictors (profiling-based) sit beside it."""

from archir.passes.latency.annotate import AnnotateLatency, LatencyError, annotate_module, predict_latency
from archir.passes.latency.device import Fingerprint
from archir.passes.latency.kernel_io import PredictorFileError
from archir.passes.latency.kernel_predictor import KernelPredictor, MissingKernelModel
from archir.passes.latency.kernel_registry import FingerprintMismatch, NoPredictor, load_predictor
from archir.passes.latency.lut import LutPredictor, TrainingInfo
from archir.passes.latency.lut_fit import fit_lut, fit_measurements
from archir.passes.latency.lut_io import LutPredictorFileError
from archir.passes.latency.lut_keys import LutKey, LutKeyError, parse_key
from archir.passes.latency.lut_tables import LutTableError, note10_table_paths, read_tables

__all__ = [
    "AnnotateLatency", "Fingerprint", "FingerprintMismatch", "KernelPredictor", "LatencyError",
    "MissingKernelModel", "NoPredictor", "PredictorFileError", "annotate_module", "load_predictor",
    "predict_latency",
    "LutKey", "LutKeyError", "LutPredictor", "LutPredictorFileError", "LutTableError", "TrainingInfo",
    "fit_lut", "fit_measurements", "note10_table_paths", "parse_key", "read_tables",
]
