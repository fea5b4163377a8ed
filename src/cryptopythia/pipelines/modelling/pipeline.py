"""modelling: gold -> split, scaler, windows -> Conv1D+LSTM -> USD evaluation -> registry."""

from kedro.pipeline import Pipeline, node, pipeline

from ...model.evaluation import evaluate_forecasts, fit_shrinkage, predict_closes
from ...model.forecaster import assemble_forecaster
from ...model.reports import (
    build_report,
    history_to_mlflow_metrics,
    plot_loss,
    plot_predictions,
    report_to_mlflow_metrics,
)
from ...model.scaling import fit_scaler
from ...model.split import hold_out_calibration, split_chronologically
from ...model.training import train_model
from ...model.volatility import fit_volatility
from .nodes import make_model_table, name_run, register_models


def create_pipeline(**kwargs) -> Pipeline:
    return pipeline(
        [
            node(name_run, inputs="params:modelling", outputs="run_name", name="name_run"),
            node(
                make_model_table,
                inputs=["gold", "params:modelling", "params:feature_engineering"],
                outputs=["model_table", "window_spec"],
                name="prepare_model_table",
            ),
            node(
                split_chronologically,
                inputs=[
                    "model_table",
                    "params:modelling.split",
                    "params:modelling.n_timesteps",
                    "params:modelling.horizon",
                ],
                outputs=["train_rows", "validation_rows", "test_rows"],
                name="split_chronologically",
            ),
            node(
                hold_out_calibration,
                inputs=[
                    "validation_rows",
                    "params:modelling.shrinkage.calibration_fraction",
                    "params:modelling.n_timesteps",
                    "params:modelling.horizon",
                ],
                outputs=["early_stopping_rows", "calibration_rows"],
                name="hold_out_calibration",
            ),
            node(
                fit_scaler,
                inputs=["train_rows", "window_spec"],
                outputs="btc_scaler",
                name="fit_scaler",
            ),
            node(
                train_model,
                inputs=[
                    "train_rows",
                    "early_stopping_rows",
                    "btc_scaler",
                    "window_spec",
                    "params:modelling",
                ],
                outputs=["btc_model", "training_history"],
                name="train_model",
            ),
            node(
                history_to_mlflow_metrics,
                inputs="training_history",
                outputs="epoch_metrics",
                name="log_epoch_metrics",
            ),
            node(plot_loss, inputs="training_history", outputs="loss_plot", name="plot_loss"),
            node(
                predict_closes,
                inputs=[
                    "btc_model",
                    "btc_scaler",
                    "test_rows",
                    "window_spec",
                    "params:modelling.prediction_batch_size",
                    "shrinkage_weights",
                ],
                outputs="test_predictions",
                name="predict_test_split",
            ),
            node(
                evaluate_forecasts,
                inputs=["test_predictions", "train_rows"],
                outputs="test_metrics",
                name="evaluate_forecasts",
            ),
            node(
                build_report,
                inputs=[
                    "test_metrics",
                    "training_history",
                    "test_predictions",
                    "window_spec",
                    "params:modelling.precision",
                ],
                outputs="modelling_report",
                name="build_report",
            ),
            node(
                report_to_mlflow_metrics,
                inputs="modelling_report",
                outputs=["test_metrics_mlflow", "training_metrics_mlflow"],
                name="log_final_metrics",
            ),
            node(
                plot_predictions,
                inputs=["test_predictions", "test_metrics", "params:modelling.plot_last_candles"],
                outputs="test_forecast_plot",
                name="plot_predictions",
            ),
            node(
                fit_volatility,
                inputs=["train_rows", "params:modelling.intervals", "params:modelling.horizon"],
                outputs="volatility_model",
                name="fit_volatility",
            ),
            node(
                fit_shrinkage,
                inputs=[
                    "btc_model",
                    "btc_scaler",
                    "calibration_rows",
                    "window_spec",
                    "params:modelling.prediction_batch_size",
                    "params:modelling.shrinkage",
                ],
                outputs="shrinkage_weights",
                name="fit_shrinkage",
            ),
            node(
                assemble_forecaster,
                inputs=[
                    "btc_model",
                    "btc_scaler",
                    "window_spec",
                    "shrinkage_weights",
                    "params:feature_engineering",
                    "params:modelling.intervals",
                    "volatility_model",
                ],
                outputs="forecaster",
                name="assemble_forecaster",
            ),
            node(
                register_models,
                inputs=[
                    "forecaster",
                    "train_rows",
                    "modelling_report",
                    "params:modelling.registry",
                    "run_name",
                    "gold",
                ],
                outputs="registration",
                name="register_models",
            ),
        ],
        tags="modelling",  # for kedro-viz and kedro run --tags
    )
