"""Run inside .venv-llamafactory (not .venv): LLaMA-Factory's own loaders and trainers on an
export folder, with a tiny randomly initialised Llama built from a config and a local tokenizer.

    python tests/trainers/llamafactory_check.py PLAN.json

PLAN.json names the export folder (``dataset_dir``), the tokenizer.json, a work folder and the
runs: ``{"stage", "dataset", "eval_dataset", "steps"}``. For each run it appends one JSON line to
the plan's ``results`` file:
the rows LLaMA-Factory loaded before and after tokenising (train and eval), the tokens of the
raw texts for packed pre-training, and, when ``steps`` > 0, what its trainer logged.
Nothing is downloaded: every hub is switched off before transformers is imported.
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
from pathlib import Path
from typing import Any

for _var in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE"):
    os.environ[_var] = "1"
os.environ.setdefault("DISABLE_VERSION_CHECK", "1")
os.environ.setdefault("WANDB_DISABLED", "true")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

CUTOFF = 128
TEMPLATE = "default"


def tiny_model(tokenizer_json: Path, out: Path) -> Path:
    """A 2-layer Llama with hidden size 32, random weights, and the given tokenizer."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    tokenizer = PreTrainedTokenizerFast(
        tokenizer_file=str(tokenizer_json), bos_token="<s>", eos_token="</s>",
        pad_token="<pad>", unk_token="<unk>", model_max_length=4 * CUTOFF,
    )  # fmt: skip
    tokenizer.save_pretrained(out)
    config = LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
        num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=4 * CUTOFF,
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id, tie_word_embeddings=False,
    )  # fmt: skip
    torch.manual_seed(0)
    LlamaForCausalLM(config).save_pretrained(out)
    return out


def arguments(plan: dict[str, Any], run: dict[str, Any], model: Path, out: Path) -> dict[str, Any]:
    args: dict[str, Any] = {
        "model_name_or_path": str(model), "trust_remote_code": False,
        "stage": run["stage"], "do_train": True, "finetuning_type": "full",
        "dataset_dir": plan["dataset_dir"], "dataset": run["dataset"], "template": TEMPLATE,
        "cutoff_len": CUTOFF, "overwrite_cache": True, "preprocessing_num_workers": None,
        "dataloader_num_workers": 0, "cache_dir": str(out / "hf-cache"),
        "output_dir": str(out / "model"), "overwrite_output_dir": True,
        "per_device_train_batch_size": 2, "gradient_accumulation_steps": 1,
        "learning_rate": 1e-3, "max_steps": max(1, run.get("steps", 0)), "logging_steps": 1,
        "save_strategy": "no", "report_to": "none", "seed": 0, "bf16": False, "fp16": False,
        "use_cpu": True, "plot_loss": False, "disable_tqdm": True,
    }  # fmt: skip
    if run.get("eval_dataset"):
        args["eval_dataset"] = run["eval_dataset"]
    if run["stage"] == "pt":
        args["packing"] = True
    if run["stage"] == "dpo":
        args["pref_beta"] = 0.1
    return args


def raw_tokens(dataset: Any, tokenizer: Any) -> int:
    """The tokens LLaMA-Factory's packed pre-training concatenates: each text and an EOS."""
    texts = [messages[0]["content"] + tokenizer.eos_token for messages in dataset["_prompt"]]
    return sum(len(ids) for ids in tokenizer(texts, add_special_tokens=False)["input_ids"])


def check(plan: dict[str, Any], run: dict[str, Any], model: Path) -> dict[str, Any]:
    from llamafactory.data import get_dataset, get_template_and_fix_tokenizer
    from llamafactory.data.loader import _get_merged_dataset
    from llamafactory.hparams import get_train_args
    from llamafactory.model import load_tokenizer
    from llamafactory.train.tuner import run_exp

    out = Path(plan["work"]) / f"{run['stage']}-{run.get('name', run['stage'])}"
    args = arguments(plan, run, model, out)
    model_args, data_args, training_args, _, _ = get_train_args(dict(args))
    tokenizer_module = load_tokenizer(model_args)
    tokenizer = tokenizer_module["tokenizer"]
    template = get_template_and_fix_tokenizer(tokenizer, data_args)
    stage = "rm" if run["stage"] in ("rm", "dpo") else run["stage"]  # LLaMA-Factory's choice
    started = time.perf_counter()
    raw = _get_merged_dataset(data_args.dataset, model_args, data_args, training_args, stage)
    raw_eval = _get_merged_dataset(
        data_args.eval_dataset, model_args, data_args, training_args, stage
    )
    module = get_dataset(template, model_args, data_args, training_args, stage, **tokenizer_module)
    result: dict[str, Any] = {
        "name": run.get("name", run["stage"]),
        "stage": run["stage"],
        "raw_train": len(raw),
        "raw_eval": len(raw_eval) if raw_eval is not None else 0,
        "train": len(module["train_dataset"]),
        "eval": len(module["eval_dataset"]) if module.get("eval_dataset") is not None else 0,
        # packing takes one off cutoff_len (LLaMA-Factory's DataArguments): the block size
        "cutoff_len": data_args.cutoff_len,
        "columns": sorted(module["train_dataset"].column_names),
        "load_s": round(time.perf_counter() - started, 2),
    }
    if run["stage"] == "pt":
        result["raw_train_tokens"] = raw_tokens(raw, tokenizer)
        result["raw_eval_tokens"] = raw_tokens(raw_eval, tokenizer) if raw_eval else 0
    if run.get("steps", 0) > 0:
        started = time.perf_counter()
        run_exp(dict(args))
        state = json.loads((out / "model" / "trainer_state.json").read_text())
        losses = [e["loss"] for e in state["log_history"] if "loss" in e]
        result["global_step"] = state["global_step"]
        result["losses"] = losses
        result["finite"] = bool(losses) and all(math.isfinite(x) for x in losses)
        result["train_s"] = round(time.perf_counter() - started, 2)
    return result


def main(argv: list[str]) -> int:
    plan = json.loads(Path(argv[1]).read_text())
    work = Path(plan["work"])
    model = tiny_model(Path(plan["tokenizer"]), work / "tiny-llama")
    with Path(plan["results"]).open("a", encoding="utf-8") as results:
        for run in plan["runs"]:
            results.write(json.dumps(check(plan, run, model)) + "\n")
            results.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
