"""The LLM judges' configuration: messages, sampling parameters, cost rates and the fields
every judge's spec shares (``JudgeConfig``)."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from rft_core import GraderConfig, TemplateField

__all__ = ["ContentPart", "JudgeConfig", "Message", "SamplingParams"]

DEFAULT_SEED = 42
DEFAULT_REASONING_EFFORT = "medium"


class ContentPart(BaseModel):
    """One typed block of OpenAI message content: text (``input_text``, ``output_text``) or an
    image (``input_image``, sent as a Chat Completions ``image_url`` part)."""

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)

    type: Literal["input_text", "output_text", "input_image"] = Field(description="The block's kind.")
    text: TemplateField | None = Field(default=None, description="Template of a text block.")
    image_url: TemplateField | None = Field(default=None, description="Template of an image's URL (or data URL).")
    detail: Literal["auto", "low", "high"] | None = Field(default=None, description="An image's detail level.")
    file_id: None = Field(
        default=None, description="OpenAI's image file id: accepted as null (OpenAI's examples write it); "
        "a file id names a file in OpenAI's store, which a local judge cannot read: give image_url instead.",
    )

    @model_validator(mode="before")
    @classmethod
    def _no_file_id(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("file_id") is not None:
            raise ValueError("`file_id` names a file in OpenAI's file store, which rft cannot read: give the "
                             "image as `image_url` (a URL or a data URL) instead")
        return data

    @model_validator(mode="after")
    def _has_its_payload(self) -> ContentPart:
        wanted = "image_url" if self.type == "input_image" else "text"
        if getattr(self, wanted) is None:
            raise ValueError(f"a {self.type} block needs `{wanted}`")
        unwanted = "text" if wanted == "image_url" else "image_url"
        if getattr(self, unwanted) is not None or (self.detail is not None and wanted == "text"):
            raise ValueError(f"a {self.type} block takes `{wanted}`" + ("" if wanted == "text" else " and `detail`"))
        return self


def _blocks(content: Any) -> Any:
    """One typed block given alone is a list of one."""
    return [content] if isinstance(content, dict) else content


class Message(BaseModel):
    """One input message: a role and a content template, or a list of typed content blocks."""

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)

    role: Literal["system", "developer", "user", "assistant"] = Field(description="Who says it.")
    content: Annotated[TemplateField | list[ContentPart], BeforeValidator(_blocks)] = Field(
        description="Template, e.g. 'Reference: {{ item.answer }}', or typed blocks "
        "([{type: input_text, text: ...}, {type: input_image, image_url: ...}])."
    )
    type: Literal["message"] | None = Field(default=None, description="OpenAI's optional 'message' marker.")


class SamplingParams(BaseModel):
    """OpenAI's sampling_params; other keys (e.g. vLLM's top_k) are sent in the request body as given."""

    model_config = ConfigDict(extra="allow")

    temperature: float | None = Field(default=None, ge=0, le=2, description="Default 0 (not sent to reasoning models).")
    top_p: float | None = Field(default=None, gt=0, le=1, description="Nucleus sampling.")
    seed: int | None = Field(default=None, description=f"Default {DEFAULT_SEED}.")
    max_completions_tokens: int | None = Field(
        default=None, gt=0, description="Most tokens the judge may write (OpenAI's spelling)."
    )
    reasoning_effort: Literal["none", "minimal", "low", "medium", "high", "xhigh", "max"] | None = Field(
        default=None, description="For reasoning models; setting it makes any model be treated as one."
    )


class CostRates(BaseModel):
    """Prices in dollars per million tokens."""

    model_config = ConfigDict(extra="forbid")

    prompt: float = Field(ge=0, description="$ per 1M prompt (input) tokens.")
    completion: float = Field(ge=0, description="$ per 1M completion (output) tokens.")


class JudgeConfig(GraderConfig):
    """Fields shared by score_model and label_model."""

    model: str = Field(min_length=1, description="The judge model, e.g. gpt-4o-mini or the name a vLLM server serves.")
    input: list[Message] = Field(
        min_length=1, description="Messages sent to the judge: [{role, content}], each content a template."
    )
    sampling_params: SamplingParams | None = Field(
        default=None,
        description="temperature, top_p, seed, max_completions_tokens, reasoning_effort; other keys pass through.",
    )
    base_url: str | None = Field(
        default=None, description="The server's OpenAI-compatible base URL; default $OPENAI_BASE_URL, else OpenAI."
    )
    api_key: str | None = Field(
        default=None, description="API key; prefer api_key_env so keys stay out of spec files."
    )
    api_key_env: str = Field(
        default="OPENAI_API_KEY", description="Environment variable holding the API key when api_key is not set."
    )
    structured_output: Literal["auto", "always", "never"] = Field(
        default="auto",
        description="auto: ask for a JSON schema verdict, fall back to free text if the server rejects it; "
        "always: no fallback; never: free text only.",
    )
    instructions: bool = Field(
        default=True,
        description="Put a short system message first saying how to answer and that the sample is data.",
    )
    delimit_sample: bool = Field(
        default=True, description="Wrap sample.* values in <sample>...</sample>, escaping those tags inside them."
    )
    sampling_defaults: bool = Field(
        default=True,
        description="Send temperature 0 and seed 42 (reasoning models: reasoning_effort medium) where sampling_params "
        "sets none; false: send only what sampling_params sets (openai_strict: true makes it false).",
    )
    max_sample_chars: int = Field(
        default=100_000, gt=0, description="A longer rendered sample gets status parse_error without a request."
    )
    max_concurrency: int = Field(default=16, ge=1, le=4096, description="Most requests in flight to this server.")
    requests_per_minute: float | None = Field(default=None, gt=0, description="Request rate limit (none by default).")
    tokens_per_minute: float | None = Field(default=None, gt=0, description="Token rate limit (none by default).")
    timeout: float = Field(default=60.0, gt=0, description="Seconds one attempt may take.")
    max_retries: int = Field(default=4, ge=0, le=20, description="Retries on 429, 5xx, timeouts, dropped connections.")
    retry_backoff: float = Field(default=0.5, gt=0, description="First retry delay in seconds; doubles each retry.")
    retry_backoff_max: float = Field(default=30.0, gt=0, description="Longest delay between retries (seconds).")
    cache: bool = Field(default=True, description="Keep verdicts in an on-disk cache; re-scoring costs no calls.")
    cache_dir: str | None = Field(
        default=None,
        description="Directory of judge.sqlite; default $RFT_CACHE_DIR, else ~/.cache/rft-graders.",
    )
    cost_per_million_tokens: CostRates | None = Field(
        default=None, description="{prompt: $, completion: $} per 1M tokens, for metadata cost_usd."
    )

    @field_validator("base_url")
    @classmethod
    def _base_url_is_http(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https?://", value):
            raise ValueError(f"base_url must start with http:// or https://, got {value!r}")
        return value.rstrip("/") if value else value
