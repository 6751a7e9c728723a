"""Kubernetes API errors: Status objects as the API server writes them."""



def status_obj(code, reason, message, details=None):
    o = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
         "message": message, "reason": reason}
    if details:
        o["details"] = details
    o["code"] = code        # same key order as the API server's Status
    return o


class APIError(Exception):
    def __init__(self, code, reason, message, details=None):
        super().__init__(message)
        self.status = status_obj(code, reason, message, details)
        self.code = code


def _nf(name):
    return APIError(404, "NotFound", 'secrets "%s" not found' % name, {"name": name, "kind": "secrets"})


def _conflict_rv(name):
    return APIError(409, "Conflict", 'Operation cannot be fulfilled on secrets "%s": the object has been modified; '
                    "please apply your changes to the latest version and try again" % name,
                    {"name": name, "kind": "secrets"})


def _bad_decode(msg):
    return APIError(400, "BadRequest", 'Secret in version "v1" cannot be handled as a Secret: %s' % msg)
