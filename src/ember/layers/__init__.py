"""Layers: the ``Layer`` base and the built-in layers."""

from ember.layers.batch_normalization import BatchNormalization as BatchNormalization
from ember.layers.normalization import GroupNormalization as GroupNormalization
from ember.layers.normalization import LayerNormalization as LayerNormalization
from ember.layers.normalization import UnitNormalization as UnitNormalization
from ember.layers.regularization import ActivityRegularization as ActivityRegularization
from ember.layers.regularization import AlphaDropout as AlphaDropout
from ember.layers.regularization import GaussianDropout as GaussianDropout
from ember.layers.regularization import GaussianNoise as GaussianNoise
from ember.layers.regularization import SpatialDropout1D as SpatialDropout1D
from ember.layers.regularization import SpatialDropout2D as SpatialDropout2D
from ember.layers.regularization import SpatialDropout3D as SpatialDropout3D
from ember.layers.spectral_normalization import SpectralNormalization as SpectralNormalization
from ember.layers.attention import AdditiveAttention as AdditiveAttention
from ember.layers.attention import Attention as Attention
from ember.layers.conv import Conv1D as Conv1D
from ember.layers.conv import Conv2D as Conv2D
from ember.layers.conv_more import Conv1DTranspose as Conv1DTranspose
from ember.layers.conv_more import Conv2DTranspose as Conv2DTranspose
from ember.layers.conv_more import Conv3D as Conv3D
from ember.layers.conv_more import Conv3DTranspose as Conv3DTranspose
from ember.layers.core import Activation as Activation
from ember.layers.core import Dense as Dense
from ember.layers.core import Dropout as Dropout
from ember.layers.conv_lstm import ConvLSTM2D as ConvLSTM2D
from ember.layers.conv_depthwise import DepthwiseConv1D as DepthwiseConv1D
from ember.layers.conv_depthwise import DepthwiseConv2D as DepthwiseConv2D
from ember.layers.conv_depthwise import SeparableConv1D as SeparableConv1D
from ember.layers.conv_depthwise import SeparableConv2D as SeparableConv2D
from ember.layers.embedding import Embedding as Embedding
from ember.layers.gru import GRU as GRU
from ember.layers.lstm import LSTM as LSTM
from ember.layers.simple_rnn import SimpleRNN as SimpleRNN
from ember.layers.wrappers import Bidirectional as Bidirectional
from ember.layers.wrappers import TimeDistributed as TimeDistributed
from ember.layers.input_layer import Input as Input
from ember.layers.input_layer import InputLayer as InputLayer
from ember.layers.layer import Layer as Layer
from ember.layers.group_query_attention import GroupQueryAttention as GroupQueryAttention
from ember.layers.multi_head_attention import MultiHeadAttention as MultiHeadAttention
from ember.layers.merge import Add as Add
from ember.layers.merge import Concatenate as Concatenate
from ember.layers.merge import add as add
from ember.layers.merge import concatenate as concatenate
from ember.layers.pooling import GlobalAveragePooling1D as GlobalAveragePooling1D
from ember.layers.pooling import GlobalAveragePooling2D as GlobalAveragePooling2D
from ember.layers.pooling import GlobalMaxPooling1D as GlobalMaxPooling1D
from ember.layers.pooling import GlobalMaxPooling2D as GlobalMaxPooling2D
from ember.layers.reshaping import Flatten as Flatten
from ember.layers.reshaping import Reshape as Reshape
from ember.layers.local_pooling import AveragePooling1D as AveragePooling1D
from ember.layers.local_pooling import AveragePooling2D as AveragePooling2D
from ember.layers.local_pooling import AveragePooling3D as AveragePooling3D
from ember.layers.local_pooling import MaxPooling1D as MaxPooling1D
from ember.layers.local_pooling import MaxPooling2D as MaxPooling2D
from ember.layers.local_pooling import MaxPooling3D as MaxPooling3D
from ember.layers.pooling import GlobalAveragePooling3D as GlobalAveragePooling3D
from ember.layers.pooling import GlobalMaxPooling3D as GlobalMaxPooling3D
from ember.layers.merge import Average as Average
from ember.layers.merge import Dot as Dot
from ember.layers.merge import Maximum as Maximum
from ember.layers.merge import Minimum as Minimum
from ember.layers.merge import Multiply as Multiply
from ember.layers.merge import Subtract as Subtract
from ember.layers.merge import average as average
from ember.layers.merge import dot as dot
from ember.layers.merge import maximum as maximum
from ember.layers.merge import minimum as minimum
from ember.layers.merge import multiply as multiply
from ember.layers.merge import subtract as subtract
from ember.layers.reshaping import Identity as Identity
from ember.layers.reshaping import Lambda as Lambda
from ember.layers.reshaping import Permute as Permute
from ember.layers.reshaping import RepeatVector as RepeatVector
from ember.layers.spatial_reshaping import Cropping1D as Cropping1D
from ember.layers.spatial_reshaping import Cropping2D as Cropping2D
from ember.layers.spatial_reshaping import Cropping3D as Cropping3D
from ember.layers.spatial_reshaping import UpSampling1D as UpSampling1D
from ember.layers.spatial_reshaping import UpSampling2D as UpSampling2D
from ember.layers.spatial_reshaping import UpSampling3D as UpSampling3D
from ember.layers.spatial_reshaping import ZeroPadding1D as ZeroPadding1D
from ember.layers.spatial_reshaping import ZeroPadding2D as ZeroPadding2D
from ember.layers.spatial_reshaping import ZeroPadding3D as ZeroPadding3D
from ember.layers.torch_module import TorchModuleWrapper as TorchModuleWrapper
from ember.layers.image_preprocessing import CenterCrop as CenterCrop
from ember.layers.image_preprocessing import Resizing as Resizing
from ember.layers.preprocessing import CategoryEncoding as CategoryEncoding
from ember.layers.discretization import Discretization as Discretization
from ember.layers.preprocessing import Masking as Masking
from ember.layers.preprocessing import Normalization as Normalization
from ember.layers.preprocessing import Rescaling as Rescaling
from ember.layers.lookup import IntegerLookup as IntegerLookup
from ember.layers.lookup import StringLookup as StringLookup
from ember.layers.text_vectorization import TextVectorization as TextVectorization

__all__ = [
    "IntegerLookup",
    "StringLookup",
    "TextVectorization",
    "CategoryEncoding",
    "CenterCrop",
    "Discretization",
    "Masking",
    "Normalization",
    "Rescaling",
    "Resizing",
    "Cropping1D",
    "Cropping2D",
    "Cropping3D",
    "UpSampling1D",
    "UpSampling2D",
    "UpSampling3D",
    "ZeroPadding1D",
    "ZeroPadding2D",
    "ZeroPadding3D",
    "Identity",
    "Lambda",
    "Permute",
    "RepeatVector",
    "AdditiveAttention",
    "Attention",
    "GroupQueryAttention",
    "MultiHeadAttention",
    "Bidirectional",
    "ConvLSTM2D",
    "Embedding",
    "GRU",
    "LSTM",
    "SimpleRNN",
    "TimeDistributed",
    "ActivityRegularization",
    "AlphaDropout",
    "BatchNormalization",
    "GaussianDropout",
    "GaussianNoise",
    "GroupNormalization",
    "LayerNormalization",
    "SpatialDropout1D",
    "SpatialDropout2D",
    "SpatialDropout3D",
    "SpectralNormalization",
    "UnitNormalization",
    "Average",
    "Dot",
    "Maximum",
    "Minimum",
    "Multiply",
    "Subtract",
    "average",
    "dot",
    "maximum",
    "minimum",
    "multiply",
    "subtract",
    "GlobalAveragePooling3D",
    "GlobalMaxPooling3D",
    "AveragePooling1D",
    "AveragePooling2D",
    "AveragePooling3D",
    "MaxPooling1D",
    "MaxPooling2D",
    "MaxPooling3D",
    "Activation",
    "Add",
    "Concatenate",
    "Conv1D",
    "Conv2D",
    "Conv1DTranspose",
    "Conv2DTranspose",
    "Conv3D",
    "Conv3DTranspose",
    "DepthwiseConv1D",
    "DepthwiseConv2D",
    "SeparableConv1D",
    "SeparableConv2D",
    "Dense",
    "Dropout",
    "Flatten",
    "GlobalAveragePooling1D",
    "GlobalAveragePooling2D",
    "GlobalMaxPooling1D",
    "GlobalMaxPooling2D",
    "Input",
    "InputLayer",
    "Layer",
    "Reshape",
    "TorchModuleWrapper",
    "add",
    "concatenate",
]
