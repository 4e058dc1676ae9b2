package io.flotilla.engine.train;

import io.flotilla.engine.model.ModelConfig;

/**
 * A local training job.
 *
 * @param model architecture (vocab/inputs 0 = from the dataset)
 * @param initFrom checkpoint or Hugging Face GPT-2 directory to start from, or null
 * @param dataset the data
 * @param training the schedule and optimizer
 */
public record JobConfig(
    ModelConfig model, String initFrom, DatasetConfig dataset, TrainingConfig training) {}
