"""The pages' words in Chinese (first) and English (pure).

``choose(asked, remembered)`` picks the language: ``?lang=en`` (or ``zh``) on the URL wins and is
remembered in a cookie; without either the pages are Chinese. ``words(lang)`` gives a function
``t(key, **values)`` for the templates; a key without an English text falls back to Chinese, an
unknown key is shown as itself (so a missing text is visible, never an error). Texts that come
from the services themselves (a field error's reason, a matter's title) are shown as they come."""

LANGS = ("zh", "en")
DEFAULT = "zh"
HTML_LANG = {"zh": "zh-CN", "en": "en"}
COOKIE = "lang"

TEXT = {
    # -- the frame ---------------------------------------------------------------------------
    "site": ("黄骅市基层党建", "Huanghua grassroots Party building"),
    "skip": ("跳到正文", "Skip to the content"),
    "nav": ("主导航", "Main navigation"),
    "nav.boards": ("创星排行榜", "Star boards"),
    "nav.ticket": ("工单查询", "Ticket status"),
    "nav.console": ("工作台", "Staff console"),
    "switch": ("English", "中文"),
    "switch.label": ("Switch to English", "切换到中文"),
    "footer": ("本页信息由各服务实时提供；公开记录以哈希链校验。",
               "Live from the services; public records are checked by their hash chain."),
    "error.title": ("出错了", "Something went wrong"),
    "error.not_found": ("没有找到这个页面或记录。", "That page or record does not exist."),
    "error.unavailable": ("服务暂时不可用，请稍后再试。",
                          "A service is not available right now; try again shortly."),
    "error.internal": ("系统出错，请把请求编号告诉管理员：{request_id}",
                       "The system failed; give the administrator the request id {request_id}."),
    "error.forbidden": ("您的账号无权进行此操作：{reason}", "Your account may not do this: {reason}"),
    "error.csrf": ("表单已过期，请重新打开页面后提交。",
                   "The form has expired; open the page again and resubmit."),
    "error.summary": ("请改正以下问题：", "Please correct the following:"),
    "back": ("返回", "Back"),
    # -- boards ------------------------------------------------------------------------------
    "board.title": ("创星晋级排行榜", "Star ranking board"),
    "board.kind": ("排名对象", "Who is ranked"),
    "kind.member": ("党员", "Members"),
    "kind.branch": ("党支部", "Branches"),
    "kind.committee": ("乡镇党委", "Township committees"),
    "board.area": ("范围", "Area"),
    "scope.county": ("全县", "The whole county"),
    "board.period": ("周期", "Period"),
    "board.show": ("查看", "Show"),
    "board.branches": ("本乡镇各支部的排行榜：", "Boards of this township's branches:"),
    "board.caption": ("{scope}{kind}排名（{period}）", "{kind} of {scope} ({period})"),
    "board.rank": ("名次", "Rank"),
    "board.name": ("名称", "Name"),
    "board.branch": ("所在支部", "Branch"),
    "board.stars": ("星级", "Stars"),
    "board.score": ("积分", "Score"),
    "board.tied": ("并列", "tied"),
    "board.empty": ("这个范围在这个周期还没有排名。", "Nobody is ranked here in this period yet."),
    "board.official": ("已结算，为正式结果", "Closed: the official result"),
    "board.live": ("未结算，实时更新", "Not closed yet: live, changes as activities are scored"),
    "board.names": ("党员姓名仅显示姓氏。", "Members' names show the surname only."),
    "level": ("{n} 星", "{n} stars"),
    "chart.title": ("全县{kind}星级分布（{period}）", "Star levels of the county's {kind} ({period})"),
    "chart.desc": ("各星级的数量：{summary}", "How many hold each level: {summary}"),
    "chart.level": ("星级", "Level"),
    "chart.count": ("数量", "Number"),
    "period.month": ("{year}年{month}月", "{month_name} {year}"),
    "period.quarter": ("{year}年第{quarter}季度", "Q{quarter} {year}"),
    "period.year": ("{year}年", "{year}"),
    "period.months": ("按月", "Months"),
    "period.quarters": ("按季度", "Quarters"),
    "period.years": ("按年", "Years"),
    # -- village disclosure ------------------------------------------------------------------
    "village.title": ("{village} 村务公开", "{village}: village affairs made public"),
    "village.intro": ("本村“四议两公开”重大事项的办理过程、表决结果和公开记录。",
                      "The village's major matters under the four-discussions-two-disclosures "
                      "procedure: their steps, votes and public records."),
    "check.ok": ("记录完整：本村 {records} 条公开记录逐条校验，哈希链完好，发布后未被改动。",
                 "The record is intact: all {records} public records of this village check out "
                 "against their hash chain; nothing was changed after publication."),
    "check.bad": ("记录校验未通过：从第 {at} 条公开记录起，内容与发布时不一致。原因：{reason}",
                  "The record check FAILED: from public record {at} on, the records no longer "
                  "match what was published. Reason: {reason}"),
    "check.none": ("本村还没有公开记录。", "This village has published no records yet."),
    "check.head": ("链头哈希", "Chain head hash"),
    "village.none": ("本村还没有已公开的重大事项。", "No major matter of this village is public yet."),
    "matter.item": ("事项类别", "Item"),
    "matter.amount": ("金额（元）", "Amount (yuan)"),
    "matter.status": ("状态", "Status"),
    "matter.proposed": ("提议日期", "Proposed on"),
    "matter.progress": ("实施进度", "Execution"),
    "matter.steps": ("办理步骤", "Steps"),
    "matter.publications": ("公开记录", "Public records"),
    "step.step": ("步骤", "Step"),
    "step.on": ("日期", "Date"),
    "step.outcome": ("结果", "Outcome"),
    "step.attendance": ("应到/实到", "Members / present"),
    "step.votes": ("赞成/反对/弃权", "For / against / abstain"),
    "outcome.adopted": ("通过", "adopted"),
    "outcome.rejected": ("未通过", "rejected"),
    "outcome.done": ("完成", "done"),
    "outcome.recorded": ("已记录", "recorded"),
    "step.superseded": ("（已重新办理）", "(held again)"),
    "pub.record": ("第 {seq} 条公开记录", "Public record {seq}"),
    "pub.kind.resolution": ("决议公开", "Resolution"),
    "pub.kind.implementation": ("实施结果公开", "Implementation result"),
    "pub.on": ("公开日期", "Published on"),
    "pub.days": ("公示 {n} 天", "public for {n} days"),
    "pub.hash": ("记录哈希", "Record hash"),
    "pub.prev": ("前一条哈希", "Previous hash"),
    "pub.broken": ("此条未通过校验", "This record fails the check"),
    "pub.after_break": ("此条在断点之后，不能确认", "After the break: cannot be confirmed"),
    "pub.open": ("查看", "Open"),
    "status.deliberating": ("商议表决中", "being decided"),
    "status.resolved": ("已决议", "resolved"),
    "status.executing": ("实施中", "being carried out"),
    "status.completed": ("已办结", "completed"),
    "status.ended": ("已终止", "ended"),
    # -- one public record -------------------------------------------------------------------
    "record.title": ("{village} 公开记录第 {seq} 条", "{village}: public record {seq}"),
    "record.text": ("公开内容", "What was published"),
    "record.channels": ("公开渠道", "Channels"),
    "record.evidence": ("证据材料（SHA-256）", "Evidence (SHA-256)"),
    "record.qr": ("本页二维码（张贴于公开栏）", "This page's QR code (for the notice board)"),
    "record.all": ("本村全部公开事项", "Every public matter of this village"),
    "channel.board": ("公开栏", "notice board"),
    "channel.wechat": ("微信", "WeChat"),
    "channel.sms": ("短信", "SMS"),
    "channel.qr_code": ("二维码", "QR code"),
    "channel.leaflet": ("明白纸", "leaflet"),
    # -- ticket status -----------------------------------------------------------------------
    "ticket.title": ("便民服务工单查询", "Service ticket status"),
    "ticket.number": ("工单编号", "Ticket number"),
    "ticket.hint": ("受理时回执上的数字编号", "The number on the receipt you were given"),
    "ticket.find": ("查询", "Look up"),
    "ticket.bad_number": ("请输入数字编号", "Enter the ticket's number (digits)"),
    "ticket.missing": ("没有编号为 {number} 的工单", "There is no ticket {number}"),
    "ticket.matter": ("办理事项", "Matter"),
    "ticket.status": ("当前状态", "Status"),
    "ticket.level": ("办理层级", "Handled at"),
    "ticket.opened": ("受理日期", "Opened on"),
    "ticket.due": ("办结时限", "Due by"),
    "ticket.resolved": ("办结日期", "Resolved on"),
    "ticket.late": ("已超出时限", "Past its time limit"),
    "ticket.history": ("办理经过", "What happened"),
    "ticket.privacy": ("为保护个人信息，此处不显示申请人和经办人。",
                       "To protect personal data the requester and staff are not shown."),
    "tstatus.open": ("待接单", "open"),
    "tstatus.accepted": ("已接单", "accepted"),
    "tstatus.in_progress": ("办理中", "in progress"),
    "tstatus.waiting": ("等待补充材料", "waiting"),
    "tstatus.resolved": ("已办结", "resolved"),
    "tstatus.closed": ("已关闭", "closed"),
    "tlevel.village": ("村级服务站", "village station"),
    "tlevel.township": ("乡镇便民服务中心", "township service centre"),
    "tlevel.city": ("市级平台", "city platform"),
    "taction.open": ("受理", "opened"),
    "taction.accept": ("接单", "accepted"),
    "taction.start": ("开始办理", "work started"),
    "taction.wait": ("等待补充", "waiting"),
    "taction.resume": ("恢复办理", "resumed"),
    "taction.resolve": ("办结", "resolved"),
    "taction.close": ("关闭", "closed"),
    "taction.reopen": ("重新办理", "reopened"),
    "taction.escalate": ("上报上级", "sent up a level"),
    "taction.reassign": ("转交", "reassigned"),
    "taction.rate": ("评价", "rated"),
    "taction.breach": ("超时", "time limit passed"),
    # -- console -----------------------------------------------------------------------------
    "login.title": ("工作人员登录", "Staff log-in"),
    "login.username": ("用户名", "User name"),
    "login.password": ("密码", "Password"),
    "login.submit": ("登录", "Log in"),
    "login.wrong": ("用户名或密码错误。", "Wrong user name or password."),
    "login.locked": ("登录失败次数过多，请 {seconds} 秒后再试。",
                     "Too many failed log-ins; try again in {seconds} seconds."),
    "login.required": ("必填", "Required"),
    "login.expired": ("登录已过期，请重新登录。", "Your log-in has expired; log in again."),
    "logout": ("退出登录", "Log out"),
    "console.title": ("工作台", "Staff console"),
    "console.who": ("当前用户：{user}（{role}），范围：{scope}",
                    "Logged in as {user} ({role}), scope: {scope}"),
    "console.record": ("登记党员活动", "Record a member's activity"),
    "console.boards": ("查看排行榜", "Ranking boards"),
    "console.village": ("本村村务公开页", "This village's disclosure page"),
    "console.todo": ("乡镇、全县视图和表格导入将在后续版本提供。",
                     "Township and county views and sheet uploads come in a later version."),
    "role.county_admin": ("县委组织部管理员", "county administrator"),
    "role.township_staff": ("乡镇工作人员", "township staff"),
    "role.village_cadre": ("村干部", "village cadre"),
    "role.supervisor": ("村务监督委员", "supervisor"),
    "role.proxy_agent": ("代办员", "proxy agent"),
    "role.auditor": ("审计员", "auditor"),
    "activity.title": ("登记党员活动", "Record a member's activity"),
    "activity.intro": ("带 * 的为必填项；其余字段只在所选活动类型需要时填写。",
                       "Fields marked * are required; fill the others only when the kind of "
                       "activity needs them."),
    "activity.member_id": ("党员编号 *", "Member number *"),
    "activity.kind": ("活动类型 *", "Kind of activity *"),
    "activity.occurred_on": ("活动日期 *", "Date *"),
    "activity.hours": ("服务时长（小时）", "Hours"),
    "activity.hours.hint": ("志愿服务必填", "Required for volunteer service"),
    "activity.team_id": ("志愿服务队编号", "Volunteer team number"),
    "activity.project": ("服务项目", "Project"),
    "activity.meeting_kind": ("会议类型", "Kind of meeting"),
    "activity.meeting_kind.hint": ("组织生活会议必填", "Required for meetings"),
    "activity.attended": ("是否参加", "Attended"),
    "activity.attended.hint": ("会议、学习必填", "Required for meetings and study"),
    "activity.amount": ("捐款金额（元）", "Amount donated (yuan)"),
    "activity.amount.hint": ("捐款必填", "Required for donations"),
    "activity.households": ("结对帮扶户数", "Households paired with"),
    "activity.households.hint": ("结对帮扶必填", "Required for pairing"),
    "activity.choose": ("请选择", "Choose"),
    "activity.yes": ("是", "yes"),
    "activity.no": ("否", "no"),
    "activity.submit": ("登记", "Record"),
    "activity.done": ("已登记活动 {id}（党员 {member}，{date}）。",
                      "Activity {id} recorded (member {member}, {date})."),
    "activity.later": ("积分由创星系统异步计算，通常几秒内出现在排行榜上：",
                       "The star system scores it shortly (usually within seconds); see it on "
                       "the board:"),
    "activity.board": ("{branch}本月党员排行榜", "{branch}: this month's member board"),
    "activity.no_member": ("没有这个编号的党员", "there is no member with this number"),
    "activity.another": ("再登记一条", "Record another"),
    "akind.volunteer_service": ("志愿服务", "volunteer service"),
    "akind.meeting": ("组织生活会议", "meeting"),
    "akind.study": ("学习", "study"),
    "akind.blood_donation": ("无偿献血", "blood donation"),
    "akind.donation": ("捐款", "donation"),
    "akind.pairing": ("结对帮扶", "pairing with households"),
    "akind.community_report": ("到社区报到", "reporting to the community"),
    "akind.badge_wearing": ("佩戴党徽", "wearing the Party badge"),
    "mkind.branch_committee": ("支委会", "branch committee"),
    "mkind.member_assembly": ("党员大会", "member assembly"),
    "mkind.group_meeting": ("党小组会", "group meeting"),
    "mkind.party_lesson": ("党课", "Party lesson"),
}

MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July", "August",
               "September", "October", "November", "December")


def choose(asked: str | None, remembered: str | None) -> str:
    """The page's language: asked on the URL, else remembered in the cookie, else Chinese."""
    for candidate in (asked, remembered):
        if candidate in LANGS:
            return candidate
    return DEFAULT


def text(lang: str, key: str, **values) -> str:
    pair = TEXT.get(key)
    if pair is None:
        return key
    template = pair[1] if lang == "en" and pair[1] else pair[0]
    return template.format(**values) if values else template


def words(lang: str):
    """``t(key, **values)`` in ``lang``; ``t.lang`` is the language."""
    def t(key, **values):
        return text(lang, key, **values)
    t.lang = lang
    return t


def label(lang: str, prefix: str, code) -> str:
    """A code's words (``label("zh", "tstatus", "open")``), the code itself when unknown."""
    key = f"{prefix}.{code}"
    return text(lang, key) if key in TEXT else str(code)
