"""The forecasting model: targets, the model table and split, scaling, windows, the
Conv1D + LSTM network, training, evaluation, intervals and the multi-step forecaster.
TensorFlow is imported only inside the functions that need it."""
