"""Walk-forward evaluation: folds, baselines, scores and the Diebold-Mariano test."""
