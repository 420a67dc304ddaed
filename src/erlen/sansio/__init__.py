"""The parts of the framework that do no IO and read no context: the
registries, configuration and routing setup shared by apps and blueprints."""
