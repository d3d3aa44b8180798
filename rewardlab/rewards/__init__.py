"""The built-in reward families, one module or subpackage each; every public module here registers its rewards.

The registry (:mod:`rewardlab.registry`) imports every module of this package whose name does not start with an
underscore on its first look-up, so a new family is a new module with ``@register`` on its classes and nothing
else to edit.
"""
