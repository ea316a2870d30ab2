"""Image preprocessing layers: ``Resizing`` and ``CenterCrop``.

Images are ``(batch, height, width, channels)`` (``channels_last``, the
default) or ``(batch, channels, height, width)``; a single unbatched image
(rank 3) is accepted too. ``CenterCrop`` outputs floats; ``Resizing`` keeps
an integer input's dtype (rounding the interpolated values), as Keras does.
"""

import torch
import torch.nn.functional as F

from ember.layers.layer import Layer

__all__ = ["CenterCrop", "Resizing", "resize_images"]

#: Interpolation names (Keras's) and the ``torch.nn.functional.interpolate`` mode each maps to.
INTERPOLATIONS = {"bilinear": "bilinear", "nearest": "nearest-exact", "bicubic": "bicubic"}


def _check_size(layer, height, width):
    for arg, value in (("height", height), ("width", width)):
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            raise ValueError(f"{layer} `{arg}` must be a positive integer, got {arg}={value!r}.")


def _check_data_format(layer, data_format):
    if data_format is None:
        return "channels_last"
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(
            f"{layer} `data_format` must be 'channels_last' or 'channels_first', got data_format={data_format!r}."
        )
    return data_format


def _to_nchw(layer, inputs, data_format):
    """Float NCHW view of ``inputs`` and a function mapping results back to the input's layout."""
    inputs = torch.as_tensor(inputs)
    if inputs.dim() not in (3, 4):
        raise ValueError(
            f"{layer} expects images of rank 4 (batch, height, width, channels) or rank 3 (one image), "
            f"got shape {tuple(inputs.shape)}."
        )
    input_dtype = inputs.dtype
    if not inputs.is_floating_point():
        inputs = inputs.to(torch.float32)
    unbatched = inputs.dim() == 3
    if unbatched:
        inputs = inputs.unsqueeze(0)
    if data_format == "channels_last":
        inputs = inputs.permute(0, 3, 1, 2)

    def back(images, keep_integer_dtype=False):
        if keep_integer_dtype and not input_dtype.is_floating_point:
            info = torch.iinfo(input_dtype)
            images = images.round().clamp(info.min, info.max).to(input_dtype)
        if data_format == "channels_last":
            images = images.permute(0, 2, 3, 1)
        return images.squeeze(0) if unbatched else images

    return inputs, back


def _aspect_crop(images, height, width):
    """Center-crop NCHW ``images`` to the largest window with the aspect ratio ``width / height``."""
    in_h, in_w = images.shape[-2:]
    crop_h = min(in_h, int(in_w * height / width))
    crop_w = min(in_w, int(in_h * width / height))
    top, left = (in_h - crop_h) // 2, (in_w - crop_w) // 2
    return images[..., top : top + crop_h, left : left + crop_w]


def resize_images(images, height, width, interpolation="bilinear", crop_to_aspect_ratio=False, antialias=False):
    """Resize NCHW float ``images`` to ``(height, width)`` (a pure function).

    Pixel centres are aligned as in Keras (``align_corners=False``, half-pixel
    offsets); ``crop_to_aspect_ratio`` first crops the central window with the
    target aspect ratio so the image is not distorted.
    """
    if crop_to_aspect_ratio:
        images = _aspect_crop(images, height, width)
    mode = INTERPOLATIONS[interpolation]
    kwargs = {"align_corners": False, "antialias": antialias} if mode in ("bilinear", "bicubic") else {}
    return F.interpolate(images, size=(height, width), mode=mode, **kwargs)


def _image_output_shape(input_shape, height, width, data_format):
    input_shape = tuple(input_shape)
    if data_format == "channels_last":
        return input_shape[:-3] + (height, width, input_shape[-1])
    return input_shape[:-2] + (height, width)


class Resizing(Layer):
    """Resizes images to ``(height, width)``.

    Args:
        height: Output height.
        width: Output width.
        interpolation: ``"bilinear"`` (default), ``"nearest"`` or ``"bicubic"``.
        crop_to_aspect_ratio: If ``True``, crop the central window with the
            target aspect ratio before resizing, so the image is not distorted.
        antialias: Whether to low-pass filter when downsampling (bilinear and
            bicubic only).
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Example:
        >>> Resizing(2, 3)(torch.zeros(1, 4, 4, 3)).shape
        torch.Size([1, 2, 3, 3])
    """

    def __init__(
        self,
        height,
        width,
        interpolation="bilinear",
        crop_to_aspect_ratio=False,
        antialias=False,
        data_format=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        _check_size("Resizing", height, width)
        if interpolation not in INTERPOLATIONS:
            raise ValueError(
                f"Resizing `interpolation` must be one of {sorted(INTERPOLATIONS)}, "
                f"got interpolation={interpolation!r}."
            )
        self.height = height
        self.width = width
        self.interpolation = interpolation
        self.crop_to_aspect_ratio = bool(crop_to_aspect_ratio)
        self.antialias = bool(antialias)
        self.data_format = _check_data_format("Resizing", data_format)

    def call(self, inputs):
        images, back = _to_nchw(f"Resizing layer {self.name!r}", inputs, self.data_format)
        return back(
            resize_images(
                images, self.height, self.width, self.interpolation, self.crop_to_aspect_ratio, self.antialias
            ),
            keep_integer_dtype=True,
        )

    def compute_output_shape(self, input_shape):
        return _image_output_shape(input_shape, self.height, self.width, self.data_format)

    def get_config(self):
        config = super().get_config()
        config.update(
            height=self.height,
            width=self.width,
            interpolation=self.interpolation,
            crop_to_aspect_ratio=self.crop_to_aspect_ratio,
            antialias=self.antialias,
            data_format=self.data_format,
        )
        return config


class CenterCrop(Layer):
    """Crops the central ``(height, width)`` window of images.

    An odd difference between input and target sizes leaves the extra row or
    column on the bottom/right. Images smaller than the target in either
    dimension are instead cropped to the target aspect ratio and resized
    (bilinear) to ``(height, width)``, as Keras does.

    Args:
        height: Output height.
        width: Output width.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Example:
        >>> CenterCrop(2, 2)(torch.zeros(1, 4, 5, 3)).shape
        torch.Size([1, 2, 2, 3])
    """

    def __init__(self, height, width, data_format=None, **kwargs):
        super().__init__(**kwargs)
        _check_size("CenterCrop", height, width)
        self.height = height
        self.width = width
        self.data_format = _check_data_format("CenterCrop", data_format)

    def call(self, inputs):
        images, back = _to_nchw(f"CenterCrop layer {self.name!r}", inputs, self.data_format)
        in_h, in_w = images.shape[-2:]
        if in_h < self.height or in_w < self.width:
            return back(resize_images(images, self.height, self.width, crop_to_aspect_ratio=True))
        top, left = (in_h - self.height) // 2, (in_w - self.width) // 2
        return back(images[..., top : top + self.height, left : left + self.width])

    def compute_output_shape(self, input_shape):
        return _image_output_shape(input_shape, self.height, self.width, self.data_format)

    def get_config(self):
        config = super().get_config()
        config.update(height=self.height, width=self.width, data_format=self.data_format)
        return config
