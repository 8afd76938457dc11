"""The RecommendationService servicer: validate, proto -> domain, engine, domain -> proto.

Nothing else happens here. Auth, deadlines and error mapping are interceptors;
the caller's tenant comes from the auth interceptor (a contextvar), namespace
and user_id from the request.
"""

from __future__ import annotations

from typing import Any, TypeAlias

import grpc

from minima_grpc import convert, v1
from minima_grpc.engine.api import RoutingEngine
from minima_grpc.engine.errors import Unauthenticated
from minima_grpc.engine.types import Scope
from minima_grpc.interceptors.context import current_principal
from minima_grpc.validation import validate

Context: TypeAlias = "grpc.aio.ServicerContext[Any, Any]"


def _scope(namespace: str | None = None, user_id: str | None = None) -> Scope:
    principal = current_principal()
    if principal is None:  # only reachable if the auth interceptor is missing
        raise Unauthenticated("missing API key")
    return Scope(
        tenant=principal.tenant,
        namespace=namespace,
        user_id=user_id,
        api_key=principal.api_key,
    )


class RecommendationServicer(v1.RecommendationServiceServicer):
    def __init__(self, engine: RoutingEngine) -> None:
        self._engine = engine

    async def Recommend(  # noqa: N802 - names fixed by the proto
        self, request: v1.RecommendRequest, unused_context: Context
    ) -> v1.RecommendResponse:
        validate(request)
        scope = _scope(_namespace(request), _user_id(request))
        result = await self._engine.recommend(scope, convert.recommend_request(request))
        return convert.recommend_response(result)

    async def RecommendWorkflow(  # noqa: N802 - names fixed by the proto
        self, request: v1.WorkflowRequest, unused_context: Context
    ) -> v1.WorkflowResponse:
        validate(request)
        scope = _scope(_namespace(request), _user_id(request))
        result = await self._engine.recommend_workflow(scope, convert.workflow_request(request))
        return convert.workflow_response(result)

    async def SubmitFeedback(  # noqa: N802 - names fixed by the proto
        self, request: v1.FeedbackRequest, unused_context: Context
    ) -> v1.FeedbackResponse:
        validate(request)
        result = await self._engine.feedback(_scope(), convert.feedback_request(request))
        return convert.feedback_response(result)

    async def ListModels(  # noqa: N802 - names fixed by the proto
        self, request: v1.ListModelsRequest, unused_context: Context
    ) -> v1.ListModelsResponse:
        validate(request)
        result = await self._engine.list_models(convert.models_query(request))
        return convert.models_response(result)

    async def ListStrategies(  # noqa: N802 - names fixed by the proto
        self, request: v1.ListStrategiesRequest, unused_context: Context
    ) -> v1.ListStrategiesResponse:
        validate(request)
        scope = _scope(request.namespace if request.HasField("namespace") else None)
        result = await self._engine.strategies(scope, convert.strategies_query(request))
        return convert.strategies_response(result)

    async def GetHealth(  # noqa: N802 - names fixed by the proto
        self, request: v1.GetHealthRequest, unused_context: Context
    ) -> v1.GetHealthResponse:
        principal = current_principal()
        scope = Scope(tenant=principal.tenant, api_key=principal.api_key) if principal else None
        return convert.health_response(await self._engine.health(scope))


def _namespace(request: v1.RecommendRequest | v1.WorkflowRequest) -> str | None:
    return request.namespace if request.HasField("namespace") else None


def _user_id(request: v1.RecommendRequest | v1.WorkflowRequest) -> str | None:
    return request.user_id if request.HasField("user_id") else None
