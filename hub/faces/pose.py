"""Head pose (yaw, pitch) from 68 landmarks with a weak-perspective fit to a generic 3D face.

At enrolment distances perspective is negligible, so a least-squares affine camera from six model points to
their landmarks gives the head's rotation without OpenCV's solvePnP.
"""

from __future__ import annotations

import math

import numpy as np

from hub.faces.models import PointArray

# Generic head model (arbitrary units, y up, z towards the camera): nose tip, chin, outer eye corners, mouth corners.
_MODEL_INDEX = (30, 8, 36, 45, 48, 54)
_MODEL_POINTS = np.array(
    [
        [0.0, 0.0, 0.0],
        [0.0, -330.0, -65.0],
        [-225.0, 170.0, -135.0],
        [225.0, 170.0, -135.0],
        [-150.0, -150.0, -125.0],
        [150.0, -150.0, -125.0],
    ]
)


def head_pose(landmarks: PointArray) -> tuple[float, float]:
    """(yaw, pitch) in degrees; 0, 0 is looking straight at the camera. Signs are not meaningful, sizes are."""
    image = landmarks[list(_MODEL_INDEX)].astype(np.float64)
    image = image - image.mean(axis=0)
    image[:, 1] = -image[:, 1]  # image y grows downwards, the model's upwards
    model = _MODEL_POINTS - _MODEL_POINTS.mean(axis=0)
    # Solve image = model @ P for the 3x2 projection P (scale times the first two rows of the rotation).
    projection, *_ = np.linalg.lstsq(model, image, rcond=None)
    row_x, row_y = projection[:, 0], projection[:, 1]
    row_x = row_x / np.linalg.norm(row_x)
    row_y = row_y - row_x * float(row_x @ row_y)  # Gram-Schmidt: the nearest true rotation
    row_y = row_y / np.linalg.norm(row_y)
    yaw = math.degrees(math.atan2(float(row_x[2]), float(row_x[0])))
    pitch = math.degrees(math.atan2(-float(row_y[2]), float(row_y[1])))
    return yaw, pitch
