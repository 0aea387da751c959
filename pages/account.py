"""Your account: profile, password, personal API tokens and agent tokens."""

import datetime as dt

import dash
import dash_bootstrap_components as dbc
from dash import html

from auth import agent_token_service, service
from auth.identity import current_user_or_none
from callbacks import gateway
from components.account import sign_in_prompt
from components.agent_tokens import agent_tokens_card
from components.auth_forms import password_card, profile_card, tokens_card
from components.share_links import share_list_card
from data.services import get_services

dash.register_page(
    __name__, path="/account", name="Account", title="Account · Insightboard"
)


def layout(**_query) -> html.Div:
    """The account page (the guard has already refused anonymous visitors)."""
    user = current_user_or_none()
    if user is None:
        return sign_in_prompt("/account")
    services = get_services()
    tokens = service.list_api_tokens(services, user.id)
    agents = agent_token_service.list_agent_tokens(services, user.id)
    datasets = gateway.dataset_names(services, user.id)
    today = dt.datetime.now(dt.UTC).date()
    return html.Div(
        [
            html.H1("Your account", className="h3 mb-4"),
            dbc.Row(
                [
                    dbc.Col([profile_card(user), password_card()], lg=5),
                    dbc.Col(
                        [
                            tokens_card(tokens),
                            agent_tokens_card(agents, datasets, today),
                        ],
                        lg=7,
                    ),
                ]
            ),
            share_list_card(),
        ],
        id="account-page",
    )
