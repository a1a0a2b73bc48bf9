"""The domain core's errors: one base class, a few kinds a caller can act on."""


class HubError(Exception):
    """Base class of every error the hub's domain code raises."""


class InvalidInputError(HubError, ValueError):
    """A caller passed something the hub cannot accept; nothing was changed."""


class NotFoundError(HubError, LookupError):
    """The resident, credential, door or event asked for does not exist."""


class StorageError(HubError):
    """The community database could not be read or written."""


class FeatureUnavailableError(HubError):
    """An optional part of the hub cannot run here because a package it needs is not installed (or not loadable);
    the message says what is missing and how to get it. Everything else keeps working."""
