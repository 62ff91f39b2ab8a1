"""A BERT encoder in plain torch, for the bundled all-MiniLM-L6-v2 (no transformers import)."""

from __future__ import annotations

import json
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors import safe_open
from tokenizers import Tokenizer


class BertEncoder:
    """BertModel's forward pass (absolute positions, post-LN, exact GELU), pooler left out."""

    def __init__(self, weights: dict[str, torch.Tensor], config: dict) -> None:
        self.heads = int(config["num_attention_heads"])
        self.eps = float(config["layer_norm_eps"])
        self.max_positions = int(config["max_position_embeddings"])
        self.words = weights["embeddings.word_embeddings.weight"]
        self.positions = weights["embeddings.position_embeddings.weight"]
        self.token_types = weights["embeddings.token_type_embeddings.weight"]
        self.embed_norm = self._norm(weights, "embeddings.LayerNorm")
        self.layers = [self._layer(weights, f"encoder.layer.{n}.")
                       for n in range(int(config["num_hidden_layers"]))]

    @staticmethod
    def _norm(weights: dict[str, torch.Tensor], prefix: str) -> tuple[torch.Tensor, torch.Tensor]:
        return weights[f"{prefix}.weight"], weights[f"{prefix}.bias"]

    def _layer(self, weights: dict[str, torch.Tensor], p: str) -> dict[str, torch.Tensor]:
        attention = p + "attention.self."
        # One matrix for query, key and value: one GEMM instead of three per layer.
        qkv = [weights[f"{attention}{part}.weight"] for part in ("query", "key", "value")]
        qkv_bias = [weights[f"{attention}{part}.bias"] for part in ("query", "key", "value")]
        return {
            "qkv": torch.cat(qkv), "qkv_bias": torch.cat(qkv_bias),
            "out": weights[p + "attention.output.dense.weight"],
            "out_bias": weights[p + "attention.output.dense.bias"],
            "attention_norm": self._norm(weights, p + "attention.output.LayerNorm"),
            "up": weights[p + "intermediate.dense.weight"],
            "up_bias": weights[p + "intermediate.dense.bias"],
            "down": weights[p + "output.dense.weight"],
            "down_bias": weights[p + "output.dense.bias"],
            "output_norm": self._norm(weights, p + "output.LayerNorm"),
        }

    def __call__(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """The last hidden state, (batch, tokens, hidden); token type 0 throughout."""
        batch, length = input_ids.shape
        if length > self.max_positions:
            raise ValueError(f"{length} tokens: the model takes at most {self.max_positions}")
        hidden = self.words[input_ids] + self.positions[:length] + self.token_types[0]
        hidden = F.layer_norm(hidden, hidden.shape[-1:], *self.embed_norm, self.eps)
        # Padding keys are hidden from every query; without padding no mask is needed at all.
        mask = None if bool(attention_mask.all()) else attention_mask.bool()[:, None, None, :]
        width = hidden.shape[-1]
        for layer in self.layers:
            qkv = F.linear(hidden, layer["qkv"], layer["qkv_bias"])
            q, k, v = (part.view(batch, length, self.heads, -1).transpose(1, 2)
                       for part in qkv.split(width, dim=-1))
            context = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
            context = context.transpose(1, 2).reshape(batch, length, width)
            attended = F.linear(context, layer["out"], layer["out_bias"]) + hidden
            hidden = F.layer_norm(attended, (width,), *layer["attention_norm"], self.eps)
            inner = F.gelu(F.linear(hidden, layer["up"], layer["up_bias"]))
            out = F.linear(inner, layer["down"], layer["down_bias"]) + hidden
            hidden = F.layer_norm(out, (width,), *layer["output_norm"], self.eps)
        return hidden


def load_encoder(path: Path) -> BertEncoder:
    """The encoder of a BERT folder (config.json, model.safetensors), float32."""
    config = json.loads((path / "config.json").read_text())
    shape = (config.get("model_type"), config.get("hidden_act"),
             config.get("position_embedding_type", "absolute"))
    if shape != ("bert", "gelu", "absolute"):
        raise ValueError(f"{path}: expected a BERT with GELU and absolute positions, got {shape}")
    with safe_open(str(path / "model.safetensors"), framework="pt") as weights:
        tensors = {key: weights.get_tensor(key).float() for key in weights.keys()
                   if not key.startswith("pooler.") and not key.endswith("position_ids")}
    return BertEncoder(tensors, config)


def load_tokenizer(path: Path, max_tokens: int) -> Tokenizer:
    """The folder's tokenizer.json, cut at max_tokens (specials included), padded to the longest."""
    tokenizer = Tokenizer.from_file(str(path / "tokenizer.json"))
    # The file itself pads and cuts at a fixed 128; HF's call (truncation=True, padding=True)
    # replaces that with longest-first truncation at max_length and padding to the longest.
    tokenizer.enable_truncation(max_length=max_tokens)
    pad = tokenizer.token_to_id("[PAD]")
    tokenizer.enable_padding(pad_id=0 if pad is None else pad, pad_token="[PAD]")
    return tokenizer
