"""The learner's kit: exercises declared against torch.autograd, checked by pytest and the `kit` command."""
