"""Self-service sign-up: a practitioner makes their own account and confirms their email.

The answer never tells whether an address already has an account: a new address gets an
account and a confirmation link; a known one gets an email telling its holder how to sign in
or reset their password. Both take the same work (a password hash each), both are recorded,
and both are limited by client address and by email so the form cannot be used to flood an
inbox or to probe for accounts.

No HTTP here; the pages are in :mod:`registry.accounts.pages`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from registry.accounts import credentials, passwords, urls
from registry.accounts.roles import Role
from registry.accounts.tables import EmailConfirmation, SignUpAttempt, User
from registry.accounts.users import Account, check_display_name, create_user, normalise_email
from registry.audit import service as audit
from registry.core import clock
from registry.db import transaction
from registry.errors import Conflict, InvalidInput, TooManyRequests
from registry.notifications import service as notifications

CONFIRMATION_LIFETIME = timedelta(days=3)
ATTEMPT_WINDOW = timedelta(hours=1)
ATTEMPTS_PER_ADDRESS = 20  # an office behind one address may sign several people up
ATTEMPTS_PER_EMAIL = 3  # more than this in an hour sends nothing more to that inbox


@dataclass(frozen=True)
class SignUp:
    """What the person typed, checked: the same whatever happens next."""

    email: str
    display_name: str
    password: str


def check_sign_up(email: str, display_name: str, password: str) -> SignUp:
    """The answers, or InvalidInput naming the first field at fault."""
    address = normalise_email(email)
    name = check_display_name(display_name)
    passwords.check_new_password(password, address)
    return SignUp(address, name, password)


async def request_account(answers: SignUp, client_address: str) -> None:
    """Make the account and send its confirmation link, or tell the address's holder.

    Raises TooManyRequests when the client address has asked too often; an email asked for too
    often is answered as usual but sent nothing more.
    """
    # Hashed whichever way it goes, so the answer takes as long for a known address.
    password_hash = await passwords.hash_password_in_thread(answers.password)
    moment = clock.now()
    async with transaction():
        await SignUpAttempt.insert(
            SignUpAttempt(email=answers.email, client_address=client_address, attempted_at=moment)
        )
        since = moment - ATTEMPT_WINDOW
        from_address = await SignUpAttempt.count().where(
            (SignUpAttempt.client_address == client_address) & (SignUpAttempt.attempted_at > since)
        )
        if from_address > ATTEMPTS_PER_ADDRESS:
            await audit.record("accounts.sign_up_limited", "client", client_address)
            raise TooManyRequests(
                "There have been too many attempts to create an account from your connection. "
                "Wait an hour, then try again.",
                retry_after=int(ATTEMPT_WINDOW.total_seconds()),
            )
        for_email = await SignUpAttempt.count().where(
            (SignUpAttempt.email == answers.email) & (SignUpAttempt.attempted_at > since)
        )
        if for_email > ATTEMPTS_PER_EMAIL:
            return
        known = await User.select(User.id).where(User.email == answers.email).first()
        if known is not None:
            await _tell_the_holder(known["id"], answers.email)
            return
    # Outside the attempt's transaction, so the attempt stays recorded whatever happens next.
    await _create(answers, password_hash)


async def _create(answers: SignUp, password_hash: str) -> None:
    # The account, its confirmation link and the record of the sign-up in one transaction: a
    # crash between them would leave an account whose holder was never sent a link.
    try:
        async with transaction():
            account = await create_user(
                answers.email,
                answers.display_name,
                [Role.practitioner],
                email_confirmed=False,
                password_hash=password_hash,
            )
            await _send_confirmation(account)
            await audit.record("accounts.signed_up", "user", account.id)
    except Conflict:
        return  # made at this very moment by a twin request: that one sent the link


async def _tell_the_holder(user_id: int, email: str) -> None:
    await notifications.queue_email(
        email,
        "account_exists",
        {"sign_in": urls.SIGN_IN, "forgotten_password": urls.FORGOTTEN_PASSWORD},
        subject="You already have an account",
        # One a day at most, however often someone tries the address.
        key=f"account-exists:{user_id}:{clock.now().date().isoformat()}",
    )
    await audit.record("accounts.sign_up_for_known_email", "user", user_id)


async def _send_confirmation(account: Account) -> None:
    issued = credentials.new_reset_token()
    moment = clock.now()
    await EmailConfirmation.insert(
        EmailConfirmation(
            user=account.id,
            token_hash=issued.hash,
            created_at=moment,
            expires_at=moment + CONFIRMATION_LIFETIME,
        )
    )
    await notifications.queue_email(
        account.email,
        "confirm_email",
        {"display_name": account.display_name, "path": urls.confirm_email_link(issued.token)},
        subject="Confirm your email address",
        key=f"confirm-email:{issued.hash}",
    )


async def resend_confirmation(account: Account) -> None:
    """A fresh link for a signed-in person whose address is not confirmed yet."""
    if account.email_confirmed:
        raise Conflict("Your email address is already confirmed.")
    async with transaction():
        await _send_confirmation(account)
        await audit.record("accounts.confirmation_resent", "user", account.id)


async def confirm_email(token: str) -> int:
    """Confirm the address the link ``token`` was sent to; returns the account's id.

    A link works once and for three days; confirming twice is harmless but the second use of
    a link is refused, as any single-use link is.
    """
    moment = clock.now()
    async with transaction():
        claimed = (
            await EmailConfirmation.update({EmailConfirmation.used_at: moment})
            .where(
                (EmailConfirmation.token_hash == credentials.hash_token(token))
                & EmailConfirmation.used_at.is_null()
                & (EmailConfirmation.expires_at > moment)
            )
            .returning(EmailConfirmation.user)
        )
        if not claimed:
            raise InvalidInput(
                "This link has expired or has already been used. Sign in to ask for a new one.",
                field="token",
            )
        user_id = int(claimed[0]["user"])
        await User.update({User.email_confirmed_at: moment}).where(
            (User.id == user_id) & User.email_confirmed_at.is_null()
        )
        await audit.record("accounts.email_confirmed", "user", user_id)
    return user_id
