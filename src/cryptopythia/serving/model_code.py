"""The served model's code, logged with MLflow's models-from-code: MLflow runs this file
when it loads the model, so no pickled Python object travels with it."""

import mlflow

from cryptopythia.serving.pyfunc import CandleForecasterModel

mlflow.models.set_model(CandleForecasterModel())
